/* What the container's process may do: capability names and sets
 * (podman's defaults, --cap-add, --cap-drop, --privileged), --ulimit,
 * and applying capabilities, rlimits and no_new_privs in the child.
 *
 * Capabilities follow podman: the bounding set is the merged set; a root
 * process gets it as effective and permitted too (execve gives root its
 * bounding set anyway), a non-root process gets only the added
 * capabilities, as effective, permitted, inheritable and ambient, so they
 * survive its execve. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libutil/mem.h"
#include "runtime_internal.h"

/* Indexed by number: capabilities(7) up to Linux 5.9. */
static const char *const cap_names[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
  "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
  "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
  "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

#define N_CAPS ((int) (sizeof cap_names / sizeof cap_names[0]))
#define CAP_BIT(c) (UINT64_C (1) << (c))
/* "ALL": every capability we can name. */
#define ALL_CAPS (CAP_BIT (N_CAPS) - 1)

/* containers.conf default_capabilities as podman ships it. */
static const int default_caps[] = {
  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_NET_BIND_SERVICE,
  CAP_SETFCAP, CAP_SETGID, CAP_SETPCAP, CAP_SETUID, CAP_SYS_CHROOT,
};

int
runtime_caps_from_name (const char *name, int *cap, struct error **err)
{
  const char *bare = strncasecmp (name, "CAP_", 4) == 0 ? name + 4 : name;

  for (int i = 0; i < N_CAPS; i++)
    if (strcasecmp (bare, cap_names[i] + 4) == 0)
      {
        *cap = i;
        return 0;
      }
  return err_make (err, 0, "unknown capability \"%s\"", name);
}

const char *
runtime_caps_name (int cap)
{
  return cap >= 0 && cap < N_CAPS ? cap_names[cap] : NULL;
}

uint64_t
runtime_caps_default (void)
{
  uint64_t set = 0;

  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
    set |= CAP_BIT (default_caps[i]);
  return set;
}

/* NAMES as a mask; *HAS_ALL tells whether "ALL" was among them. */
static int
names_to_mask (char *const *names, uint64_t *mask, bool *has_all, struct error **err)
{
  *mask = 0;
  *has_all = false;
  for (size_t i = 0; names && names[i]; i++)
    {
      int cap;

      if (strcasecmp (names[i], "ALL") == 0)
        {
          *has_all = true;
          continue;
        }
      if (runtime_caps_from_name (names[i], &cap, err) < 0)
        return -1;
      *mask |= CAP_BIT (cap);
    }
  return 0;
}

static int
conflict (uint64_t both, struct error **err)
{
  for (int i = 0; i < N_CAPS; i++)
    if (both & CAP_BIT (i))
      return err_make (err, 0, "capability \"%s\" cannot be dropped and added",
                       cap_names[i]);
  return 0;
}

/* podman's capabilities.MergeCapabilities. */
int
runtime_caps_merge (bool is_privileged, char *const *add, char *const *drop,
                    struct runtime_caps *out, struct error **err)
{
  uint64_t base = is_privileged ? ALL_CAPS : runtime_caps_default ();
  uint64_t add_mask, drop_mask;
  bool is_add_all, is_drop_all;

  if (names_to_mask (add, &add_mask, &is_add_all, err) < 0
      || names_to_mask (drop, &drop_mask, &is_drop_all, err) < 0)
    return -1;
  if (is_add_all && is_drop_all)
    return err_make (err, 0, "adding all caps and removing all caps not allowed");
  if (is_drop_all)
    {
      out->bounding = add_mask;
      out->user = add_mask;
      return 0;
    }
  if (is_add_all)
    {
      out->bounding = ALL_CAPS & ~drop_mask;
      out->user = out->bounding;
      return 0;
    }
  if (conflict (add_mask & drop_mask, err) < 0)
    return -1;
  out->bounding = (base & ~drop_mask) | add_mask;
  out->user = add_mask;
  return 0;
}

/* ---- --ulimit ----------------------------------------------------------- */

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
  { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
  { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
  { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
  { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },
};

/* A decimal limit, or -1 / "unlimited". */
static bool
parse_limit (const char *s, rlim_t *out)
{
  uint64_t v = 0;

  if (strcmp (s, "-1") == 0 || strcasecmp (s, "unlimited") == 0)
    {
      *out = RLIM_INFINITY;
      return true;
    }
  if (*s == '\0')
    return false;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
        return false;
      v = v * 10 + (uint64_t) (*s - '0');
    }
  if (v > (uint64_t) INT64_MAX)
    return false;
  *out = (rlim_t) v;
  return true;
}

static int
rlimit_resource (const char *name, int *resource, struct error **err)
{
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (strcmp (name, rlimit_names[i].name) == 0)
      {
        *resource = rlimit_names[i].resource;
        return 0;
      }
  return err_make (err, 0, "invalid ulimit type \"%s\"", name);
}

int
runtime_rlimit_parse (const char *spec, struct runtime_rlimit *out, struct error **err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *value = strchr (copy, '=');
  char *hard;
  struct runtime_rlimit r;

  if (value == NULL || value == copy)
    return err_make (err, 0, "invalid ulimit argument \"%s\": want NAME=SOFT[:HARD]",
                     spec);
  *value++ = '\0';
  if (rlimit_resource (copy, &r.resource, err) < 0)
    return -1;
  hard = strchr (value, ':');
  if (hard)
    *hard++ = '\0';
  if (hard && strchr (hard, ':'))
    return err_make (err, 0, "invalid ulimit \"%s\": too many values, want SOFT[:HARD]",
                     spec);
  if (!parse_limit (value, &r.soft) || (hard && !parse_limit (hard, &r.hard)))
    return err_make (err, 0, "invalid ulimit value in \"%s\"", spec);
  if (!hard)
    r.hard = r.soft;
  if (r.soft > r.hard)
    return err_make (err, 0, "ulimit soft limit must be less than or equal to hard "
                     "limit: \"%s\"", spec);
  *out = r;
  return 0;
}

/* ---- the child's side ---------------------------------------------------- */

static const char *
rlimit_name (int resource)
{
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (rlimit_names[i].resource == resource)
      return rlimit_names[i].name;
  return "?";
}

/* Before the user switch: raising a hard limit needs CAP_SYS_RESOURCE, and
 * in a user namespace not even that lifts it above the limit we had. */
int
runtime_rlimits_apply (const struct runtime_rlimit *r, size_t n, struct error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      struct rlimit rl = { r[i].soft, r[i].hard };

      if (setrlimit (r[i].resource, &rl) < 0)
        return err_make (err, errno, "set ulimit \"%s\" (a rootless container cannot raise "
                         "a hard limit above the one skiff runs with)",
                         rlimit_name (r[i].resource));
    }
  return 0;
}

static int
last_cap (void)
{
  char buf[16] = "";
  int fd = open ("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;

  if (fd >= 0)
    close (fd);
  if (n <= 0)
    return N_CAPS - 1;
  return atoi (buf);
}

int
runtime_caps_prepare (const struct runtime_caps *caps, struct error **err)
{
  int last = last_cap ();

  for (int c = 0; c <= last && c < 64; c++)
    {
      if (caps->bounding & CAP_BIT (c))
        continue;
      /* EINVAL: a capability this kernel does not have. */
      if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        return err_make (err, errno, "drop capability %d from the bounding set", c);
    }
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return err_make (err, errno, "keep capabilities across the user switch");
  return 0;
}

static int
capset_masks (uint64_t effective, uint64_t permitted, uint64_t inheritable,
              struct error **err)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];

  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t) (effective >> (32 * i));
      data[i].permitted = (uint32_t) (permitted >> (32 * i));
      data[i].inheritable = (uint32_t) (inheritable >> (32 * i));
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    return err_make (err, errno, "set the capabilities");
  return 0;
}

int
runtime_caps_apply (const struct runtime_caps *caps, uid_t uid, struct error **err)
{
  uint64_t set = uid == 0 ? caps->bounding : caps->user;

  if (capset_masks (set, set, uid == 0 ? 0 : set, err) < 0)
    return -1;
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return err_make (err, errno, "reset keep-capabilities");
  if (uid == 0)
    return 0;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return err_make (err, errno, "clear the ambient capabilities");
  for (int c = 0; c < 64; c++)
    if ((set & CAP_BIT (c)) && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      return err_make (err, errno, "raise the ambient capability %s",
                       runtime_caps_name (c) ? runtime_caps_name (c) : "?");
  return 0;
}

int
runtime_no_new_privs (struct error **err)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return err_make (err, errno, "set no_new_privs");
  return 0;
}
