/* Service units for containers.  The layout follows podman 4.3's
 * templates (pkg/systemd/generate/containers.go) so that a unit written
 * for podman reads the same when written by skiff. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "systemd_unit.h"

/* Flags of the recorded command line that a --new unit sets itself; the
 * second column says whether the flag takes the next word as its value. */
static const struct
{
  const char *flag;
  bool has_value;
} unit_owned_flags[] = {
  { "-d", false },         { "--detach", false },   { "--rm", false },
  { "--replace", false },  { "--cidfile", true },   { "--sdnotify", true },
  { "--cgroups", true },   { "--restart", true },
};

char *
systemd_unit_quote (const char *arg)
{
  struct buf b = BUF_INIT;
  bool is_quoted = *arg == '\0' || strpbrk (arg, " \t\n\"'\\;") != NULL;

  if (is_quoted)
    buf_append_char (&b, '"');
  for (const char *p = arg; *p; p++)
    switch (*p)
      {
      case '%': buf_append_str (&b, "%%"); break;
      case '$': buf_append_str (&b, "$$"); break;
      case '"': buf_append_str (&b, "\\\""); break;
      case '\\': buf_append_str (&b, "\\\\"); break;
      case '\n': buf_append_str (&b, "\\n"); break;
      case '\t': buf_append_str (&b, "\\t"); break;
      default: buf_append_char (&b, *p);
      }
  if (is_quoted)
    buf_append_char (&b, '"');
  return buf_steal (&b);
}

bool
systemd_unit_is_restart_policy (const char *restart)
{
  static const char *const policies[] = { "no", "on-success", "on-failure", "on-abnormal",
                                          "on-watchdog", "on-abort", "always" };

  for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
    if (strcmp (restart, policies[i]) == 0)
      return true;
  return false;
}

/* How many words FLAG (one recorded word) drops: 0 when the unit does
 * not own it, 2 for "--cidfile F", 1 for "--cidfile=F" or "--rm". */
static int
owned_flag_words (const char *word)
{
  for (size_t i = 0; i < sizeof unit_owned_flags / sizeof unit_owned_flags[0]; i++)
    {
      size_t n = strlen (unit_owned_flags[i].flag);

      if (strncmp (word, unit_owned_flags[i].flag, n) != 0)
        continue;
      if (word[n] == '\0')
        return unit_owned_flags[i].has_value ? 2 : 1;
      if (word[n] == '=')
        return 1;
    }
  return 0;
}

char **
systemd_unit_run_args (char *const *create_command, int verb, int image, struct error **err)
{
  static const char *const own[] = { "--cidfile=%t/%n.ctr-id", "--cgroups=no-conmon", "--rm",
                                     "--sdnotify=conmon", "-d", "--replace" };
  int argc = create_command ? (int) strv_len (create_command) : 0;
  cleanup_strv char **out = xcalloc (1, sizeof *out);

  if (verb < 1 || image <= verb || image >= argc)
    {
      err_make (err, 0, "the recorded command line does not fit its indexes (%d words, "
                "verb %d, image %d)", argc, verb, image);
      return NULL;
    }
  if (strcmp (create_command[verb], "run") != 0 && strcmp (create_command[verb], "create") != 0)
    {
      err_make (err, 0, "the recorded command line runs \"%s\", not run or create",
                create_command[verb]);
      return NULL;
    }
  for (int i = 1; i < verb; i++)
    out = strv_append (out, create_command[i]);
  out = strv_append (out, "run");
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
    out = strv_append (out, own[i]);
  for (int i = verb + 1; i < image;)
    {
      int skip = owned_flag_words (create_command[i]);

      if (skip == 0)
        out = strv_append (out, create_command[i++]);
      else
        i += skip;
    }
  for (int i = image; i < argc; i++)
    out = strv_append (out, create_command[i]);
  return steal_ptr (&out);
}

/* "KEY=" followed by CHUNKS, each a rendered piece: one starting with '-'
 * begins a continuation line, as podman lays its commands out. */
static void
put_command (struct buf *b, const char *key, const char *const *chunks, size_t n)
{
  buf_printf (b, "%s=%s", key, chunks[0]);
  for (size_t i = 1; i < n; i++)
    buf_printf (b, chunks[i][0] == '-' ? " \\\n\t%s" : " %s", chunks[i]);
  buf_append_char (b, '\n');
}

static void
put_unit_section (struct buf *b, const struct systemd_unit_opts *o)
{
  buf_printf (b, "[Unit]\nDescription=Skiff %s\n"
              "Documentation=man:podman-generate-systemd(1)\n"
              "Wants=network-online.target\nAfter=network-online.target\n"
              "RequiresMountsFor=%s\n", o->service, o->is_new ? "%t/containers" : o->runroot);
  if (o->wants || o->after || o->requires)
    {
      buf_append_str (b, "\n# User-defined dependencies\n");
      for (char **w = o->wants; w && *w; w++)
        buf_printf (b, "Wants=%s\n", *w);
      for (char **w = o->after; w && *w; w++)
        buf_printf (b, "After=%s\n", *w);
      for (char **w = o->requires; w && *w; w++)
        buf_printf (b, "Requires=%s\n", *w);
    }
}

/* The start of each command: skiff and its global options, so every
 * command of the unit uses the container's store. */
static char **
command_head (const struct systemd_unit_opts *o)
{
  char **head = xcalloc (1, sizeof *head);

  head = strv_append (head, o->exe);
  for (char **g = o->global_args; g && *g; g++)
    head = strv_append (head, *g);
  for (char **h = head; *h; h++)
    {
      char *q = systemd_unit_quote (*h);
      free (*h);
      *h = q;
    }
  return head;
}

/* "KEY=" and HEAD followed by the chunks in REST. */
static void
put_skiff_command (struct buf *b, const char *key, char *const *head, const char *const *rest,
                   size_t n)
{
  size_t nh = strv_len (head);
  cleanup_free const char **chunks = xcalloc (nh + n, sizeof *chunks);

  for (size_t i = 0; i < nh; i++)
    chunks[i] = head[i];
  for (size_t i = 0; i < n; i++)
    chunks[nh + i] = rest[i];
  put_command (b, key, chunks, nh + n);
}

static void
put_new_commands (struct buf *b, const struct systemd_unit_opts *o)
{
  size_t n = strv_len (o->run_args);
  cleanup_strv char **chunks = xcalloc (n + 2, sizeof *chunks);
  cleanup_strv char **head = command_head (o);
  cleanup_free char *ignore_t = xasprintf ("--ignore -t %d", o->stop_timeout);
  const char *pre[] = { "/bin/rm", "-f %t/%n.ctr-id" };
  const char *stop[] = { "stop", ignore_t, "--cidfile=%t/%n.ctr-id" };
  const char *rm[] = { "rm", "-f", "--ignore", "--cidfile=%t/%n.ctr-id" };

  chunks[0] = xstrdup (head[0]);
  for (size_t i = 0; i < n; i++)
    {
      /* The unit's own flags carry specifiers: they go in as they are. */
      bool is_own = str_has_prefix (o->run_args[i], "--cidfile=%t/");
      chunks[i + 1] = is_own ? xstrdup (o->run_args[i]) : systemd_unit_quote (o->run_args[i]);
    }
  put_command (b, "ExecStartPre", pre, 2);
  put_command (b, "ExecStart", (const char *const *) chunks, n + 1);
  put_skiff_command (b, "ExecStop", head, stop, 3);
  put_skiff_command (b, "ExecStopPost", head, rm, 4);
  buf_append_str (b, "Type=notify\nNotifyAccess=all\n");
}

/* Without --new the unit starts and stops a container that exists.  The
 * monitor skiff forks announces itself over $NOTIFY_SOCKET (the
 * container's --sdnotify=conmon), so the unit is Type=notify where
 * podman's is Type=forking with conmon's PID file. */
static void
put_existing_commands (struct buf *b, const struct systemd_unit_opts *o)
{
  cleanup_strv char **head = command_head (o);
  cleanup_free char *name = systemd_unit_quote (o->container);
  cleanup_free char *stop_t = xasprintf ("-t %d %s", o->stop_timeout, name);
  const char *start[] = { "start", name };
  const char *stop[] = { "stop", stop_t };

  put_skiff_command (b, "ExecStart", head, start, 2);
  put_skiff_command (b, "ExecStop", head, stop, 2);
  put_skiff_command (b, "ExecStopPost", head, stop, 2);
  buf_append_str (b, "Type=notify\nNotifyAccess=all\n");
}

char *
systemd_unit_render (const struct systemd_unit_opts *o)
{
  struct buf b = BUF_INIT;

  if (o->header_date)
    buf_printf (&b, "# %s\n# autogenerated by skiff %s\n# %s\n\n", o->service,
                PACKAGE_VERSION, o->header_date);
  put_unit_section (&b, o);
  buf_append_str (&b, "\n[Service]\nEnvironment=PODMAN_SYSTEMD_UNIT=%n\n");
  for (char **e = o->env; e && *e; e++)
    {
      cleanup_free char *q = systemd_unit_quote (*e);
      buf_printf (&b, "Environment=%s\n", q);
    }
  buf_printf (&b, "Restart=%s\n", o->restart_policy ? o->restart_policy : "on-failure");
  if (o->restart_sec >= 0)
    buf_printf (&b, "RestartSec=%d\n", o->restart_sec);
  /* podman: the stop timeout plus a minute for the container's teardown. */
  buf_printf (&b, "TimeoutStopSec=%d\n", o->stop_timeout + 60);
  if (o->is_new)
    put_new_commands (&b, o);
  else
    put_existing_commands (&b, o);
  buf_append_str (&b, "\n[Install]\nWantedBy=default.target\n");
  return buf_steal (&b);
}
