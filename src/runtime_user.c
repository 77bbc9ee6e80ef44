/* The container's user: "--user" resolved against the container's own
 * /etc/passwd and /etc/group the way runc's GetExecUser does (podman uses
 * it), supplementary groups and --group-add, HOME, and the switch to that
 * user.  The files come from the image, so their parser trusts nothing:
 * short, non-numeric and oversized lines are skipped. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "runtime_internal.h"

/* runc's bounds for an ID (libcontainer/user: minID, maxID). */
#define ID_MAX 2147483647u
/* Longer lines are not passwd or group lines. */
#define LINE_MAX_LEN 65536
/* /etc/passwd and /etc/group larger than this are refused. */
#define FILE_MAX (16u * 1024 * 1024)
/* Kernel's NGROUPS_MAX. */
#define GROUPS_MAX 65536

struct passwd_entry
{
  char *name;
  uint32_t uid;
  uint32_t gid;
  char *home;
};

struct group_entry
{
  char *name;
  uint32_t gid;
  char *members; /* "a,b,c" */
};

/* Decimal digits only, at most ID_MAX. */
static bool
parse_id (const char *s, uint32_t *out)
{
  uint64_t v = 0;

  if (s == NULL || *s == '\0')
    return false;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9')
        return false;
      v = v * 10 + (uint64_t) (*s - '0');
      if (v > ID_MAX)
        return false;
    }
  *out = (uint32_t) v;
  return true;
}

/* Split LINE in place at ':' into at most MAX fields; returns their number. */
static size_t
split_fields (char *line, char **fields, size_t max)
{
  size_t n = 0;

  while (n < max)
    {
      char *colon = strchr (line, ':');

      fields[n++] = line;
      if (colon == NULL)
        break;
      *colon = '\0';
      line = colon + 1;
    }
  return n;
}

/* Blank lines, comments and NIS "+"/"-" entries are not entries. */
static bool
is_entry_line (const char *line)
{
  return line[0] != '\0' && line[0] != '#' && line[0] != '+' && line[0] != '-';
}

/* "name:password:uid:gid[:gecos[:home[:shell]]]" */
static bool
parse_passwd_line (char *line, struct passwd_entry *e)
{
  char *f[7];
  size_t n;

  if (!is_entry_line (line))
    return false;
  n = split_fields (line, f, 7);
  if (n < 4 || f[0][0] == '\0' || !parse_id (f[2], &e->uid) || !parse_id (f[3], &e->gid))
    return false;
  e->name = f[0];
  e->home = n >= 6 ? f[5] : "";
  return true;
}

/* "name:password:gid[:member,member...]" */
static bool
parse_group_line (char *line, struct group_entry *e)
{
  char *f[4];
  size_t n;

  if (!is_entry_line (line))
    return false;
  n = split_fields (line, f, 4);
  if (n < 3 || f[0][0] == '\0' || !parse_id (f[2], &e->gid))
    return false;
  e->name = f[0];
  e->members = n >= 4 ? f[3] : "";
  return true;
}

/* Calls FN on each line of TEXT (a private copy, NUL-separated in place)
 * until it returns true; lines too long or with a NUL are skipped. */
static bool
each_line (const char *text, bool (*fn) (char *line, void *arg), void *arg)
{
  cleanup_free char *copy = NULL;
  char *p;

  if (text == NULL)
    return false;
  copy = xstrdup (text);
  for (p = copy; *p;)
    {
      char *end = strchrnul (p, '\n');
      bool is_last = *end == '\0';

      *end = '\0';
      if (end > p && end[-1] == '\r')
        end[-1] = '\0';
      if ((size_t) (end - p) <= LINE_MAX_LEN && fn (p, arg))
        return true;
      if (is_last)
        break;
      p = end + 1;
    }
  return false;
}

/* ---- users -------------------------------------------------------------- */

struct user_query
{
  const char *name;     /* match by name when not numeric */
  bool is_numeric;
  uint32_t uid;
  struct runtime_user *out;
  char *matched_name;   /* set on a match */
};

static bool
match_user (char *line, void *arg)
{
  struct user_query *q = arg;
  struct passwd_entry e;

  if (!parse_passwd_line (line, &e))
    return false;
  if (q->is_numeric ? e.uid != q->uid : strcmp (e.name, q->name) != 0)
    return false;
  q->out->uid = e.uid;
  q->out->gid = e.gid;
  free (q->out->home);
  q->out->home = xstrdup (e.home[0] ? e.home : "/");
  q->matched_name = xstrdup (e.name);
  return true;
}

/* ---- groups ------------------------------------------------------------- */

struct group_query
{
  const char *name;
  bool is_numeric;
  uint32_t gid;
  uint32_t found;
};

static bool
match_group (char *line, void *arg)
{
  struct group_query *q = arg;
  struct group_entry e;

  if (!parse_group_line (line, &e))
    return false;
  if (q->is_numeric ? e.gid != q->gid : strcmp (e.name, q->name) != 0)
    return false;
  q->found = e.gid;
  return true;
}

static void
add_group (struct runtime_user *u, gid_t gid)
{
  for (size_t i = 0; i < u->n_groups; i++)
    if (u->groups[i] == gid)
      return;
  if (u->n_groups >= GROUPS_MAX)
    return;
  u->groups = xrealloc (u->groups, (u->n_groups + 1) * sizeof *u->groups);
  u->groups[u->n_groups++] = gid;
}

struct member_query
{
  const char *user;
  struct runtime_user *out;
};

static bool
is_member (const char *members, const char *user)
{
  size_t len = strlen (user);

  for (const char *p = members; *p;)
    {
      const char *end = strchrnul (p, ',');

      if ((size_t) (end - p) == len && strncmp (p, user, len) == 0)
        return true;
      p = *end ? end + 1 : end;
    }
  return false;
}

static bool
collect_member_groups (char *line, void *arg)
{
  struct member_query *q = arg;
  struct group_entry e;

  if (parse_group_line (line, &e) && is_member (e.members, q->user))
    add_group (q->out, e.gid);
  return false;
}

/* A group by number (in the file or not) or by name (in the file). */
static int
find_group (const char *group, const char *spec, gid_t *gid, struct error **err)
{
  struct group_query q = { .name = spec };

  q.is_numeric = parse_id (spec, &q.gid);
  if (each_line (group, match_group, &q))
    *gid = q.found;
  else if (q.is_numeric)
    *gid = q.gid;
  else
    return err_make (err, 0, "unable to find group \"%s\": no matching entries in group file",
                     spec);
  return 0;
}

/* ---- resolution --------------------------------------------------------- */

static int
resolve_user_part (const char *user_arg, const char *passwd, struct runtime_user *out,
                   char **matched_name, struct error **err)
{
  struct user_query q = { .name = user_arg, .out = out };

  /* No user means root, looked up only for its home. */
  if (user_arg[0] == '\0')
    {
      q.is_numeric = true;
      q.uid = 0;
    }
  else
    q.is_numeric = parse_id (user_arg, &q.uid);
  if (each_line (passwd, match_user, &q))
    {
      *matched_name = q.matched_name;
      return 0;
    }
  if (user_arg[0] != '\0' && !q.is_numeric)
    return err_make (err, 0, "unable to find user \"%s\": no matching entries in passwd file",
                     user_arg);
  out->uid = q.uid;
  return 0;
}

int
runtime_user_resolve (const char *spec, const char *passwd, const char *group,
                      char *const *group_add, struct runtime_user *out, struct error **err)
{
  struct runtime_user u = { 0, 0, NULL, 0, xstrdup ("/") };
  cleanup_free char *user_arg = xstrdup (spec ? spec : "");
  cleanup_free char *matched_name = NULL;
  char *group_arg = strchr (user_arg, ':');

  if (group_arg)
    *group_arg++ = '\0';
  if (resolve_user_part (user_arg, passwd, &u, &matched_name, err) < 0)
    goto fail;
  if (group_arg && *group_arg)
    {
      if (find_group (group, group_arg, &u.gid, err) < 0)
        goto fail;
    }
  else if (matched_name)
    {
      /* Supplementary groups only in the implicit form, as runc. */
      struct member_query mq = { matched_name, &u };
      each_line (group, collect_member_groups, &mq);
    }
  for (size_t i = 0; group_add && group_add[i]; i++)
    {
      gid_t gid;

      if (find_group (group, group_add[i], &gid, err) < 0)
        goto fail;
      add_group (&u, gid);
    }
  *out = u;
  return 0;

fail:
  runtime_user_clear (&u);
  return -1;
}

void
runtime_user_clear (struct runtime_user *u)
{
  free (u->groups);
  free (u->home);
  u->groups = NULL;
  u->n_groups = 0;
  u->home = NULL;
}

char **
runtime_user_env (char *const *env, const struct runtime_user *u)
{
  char **out = NULL;
  bool has_home = false;

  for (size_t i = 0; env && env[i]; i++)
    {
      has_home = has_home || strncmp (env[i], "HOME=", 5) == 0;
      out = strv_append (out, env[i]);
    }
  if (!has_home)
    {
      cleanup_free char *home = xasprintf ("HOME=%s", u->home ? u->home : "/");
      out = strv_append (out, home);
    }
  if (out == NULL)
    out = xcalloc (1, sizeof *out);
  return out;
}

/* ---- the child's side ---------------------------------------------------- */

/* The container's file, or NULL when it has none.  The image controls it:
 * opened without blocking (a FIFO must not hang us) and only when it is
 * a regular file of sane size. */
static int
read_etc_file (const char *path, char **out, struct error **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  cleanup_buf struct buf b = BUF_INIT;
  struct stat st;
  char chunk[16384];
  ssize_t n;

  *out = NULL;
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  if (fd < 0)
    return err_make (err, errno, "open \"%s\" in the container", path);
  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "stat \"%s\" in the container", path);
  if (!S_ISREG (st.st_mode))
    return err_make (err, 0, "\"%s\" in the container is not a regular file", path);
  while ((n = read (fd, chunk, sizeof chunk)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read \"%s\" in the container", path);
      if (b.len + (size_t) n > FILE_MAX)
        return err_make (err, EFBIG, "\"%s\" in the container is larger than %u bytes", path,
                         FILE_MAX);
      buf_append (&b, chunk, (size_t) n);
    }
  *out = buf_steal (&b);
  return 0;
}

int
runtime_user_lookup (const struct runtime_process *p, struct runtime_user *out,
                     struct error **err)
{
  cleanup_free char *passwd = NULL, *group = NULL;

  if (read_etc_file ("/etc/passwd", &passwd, err) < 0
      || read_etc_file ("/etc/group", &group, err) < 0)
    return -1;
  return runtime_user_resolve (p->user, passwd, group, p->group_add, out, err);
}

/* "deny" in /proc/self/setgroups: a namespace without subordinate GIDs
 * (user_namespaces(7)). */
static bool
setgroups_denied (void)
{
  char buf[8] = "";
  cleanup_close int fd = open ("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

  return fd >= 0 && read (fd, buf, sizeof buf - 1) > 0 && strncmp (buf, "deny", 4) == 0;
}

int
runtime_user_switch (const struct runtime_user *u, struct error **err)
{
  if (setgroups (u->n_groups, u->groups) < 0)
    {
      if (errno != EPERM || !setgroups_denied ())
        return err_make (err, errno, "set the supplementary groups (is each one mapped in "
                         "the user namespace?)");
      log_debug ("supplementary groups left unchanged: setgroups is denied in a user "
                 "namespace without subordinate GIDs");
    }
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return err_make (err, errno, "switch to group %u (is it mapped in the user namespace?)",
                     (unsigned) u->gid);
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    return err_make (err, errno, "switch to user %u (is it mapped in the user namespace?)",
                     (unsigned) u->uid);
  return 0;
}
