/* skiff top / container top: the host's ps(1) over the container's
 * processes (those in its pid namespace, container_procs.h).  Arguments
 * after the container are podman's descriptors ("user pid args", also
 * comma-separated), which become ps columns with podman's headings, or
 * else ps options passed as they are (docker's `top CTR -ef`), whose
 * output is then filtered on its PID column. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "container_procs.h"
#include "libutil/buf.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"

/* podman's descriptors, the ps field for each and podman's heading. */
static const struct
{
  const char *descriptor;
  const char *field;
  const char *heading;
} descriptors[] = {
  { "user", "user", "USER" },     { "pid", "pid", "PID" },       { "ppid", "ppid", "PPID" },
  { "pcpu", "%cpu", "%CPU" },     { "etime", "etime", "ELAPSED" }, { "tty", "tty", "TTY" },
  { "time", "time", "TIME" },     { "args", "args", "COMMAND" }, { "comm", "comm", "COMMAND" },
  { "group", "group", "GROUP" },  { "nice", "nice", "NI" },      { "rgroup", "rgroup", "RGROUP" },
  { "ruser", "ruser", "RUSER" },  { "vsz", "vsz", "VSZ" },       { "rss", "rss", "RSS" },
  { "state", "state", "STATE" },  { "stime", "stime", "STIME" }, { "uid", "uid", "UID" },
  { "gid", "gid", "GID" },
};

static const char *const default_descriptors[] = {
  "user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args", NULL,
};

static int
find_descriptor (const char *name)
{
  for (size_t i = 0; i < sizeof descriptors / sizeof *descriptors; i++)
    if (strcmp (descriptors[i].descriptor, name) == 0)
      return (int) i;
  return -1;
}

/* ARGS split at commas when every piece is a descriptor; NULL otherwise. */
static char **
as_descriptors (char *const *args)
{
  char **out = xcalloc (1, sizeof *out);

  for (char *const *a = args; *a; a++)
    {
      cleanup_strv char **parts = str_split (*a, ',');
      for (char **p = parts; *p; p++)
        {
          if (find_descriptor (*p) < 0)
            {
              strv_free (out);
              return NULL;
            }
          out = strv_append (out, *p);
        }
    }
  return out;
}

static char *
pid_list (const pid_t *pids, size_t n)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; i < n; i++)
    buf_printf (&b, "%s%d", i ? "," : "", (int) pids[i]);
  return buf_steal (&b);
}

/* ps -p PIDS -o field=HEADING ...: ps prints to our stdout. */
static int
run_descriptors (char *const *names, const pid_t *pids, size_t n, struct error **err)
{
  cleanup_free char *list = pid_list (pids, n);
  cleanup_strv char **argv = strv_append (NULL, "ps");
  int status = 0;

  argv = strv_append (argv, "-p");
  argv = strv_append (argv, list);
  for (char *const *d = names; *d; d++)
    {
      int i = find_descriptor (*d);
      cleanup_free char *col = xasprintf ("%s=%s", descriptors[i].field, descriptors[i].heading);
      argv = strv_append (argv, "-o");
      argv = strv_append (argv, col);
    }
  fflush (stdout);
  if (spawn_run (argv, NULL, &status, err) < 0)
    return err_wrap (err, "run ps");
  /* ps fails when the processes ended meanwhile: the heading was printed. */
  return 0;
}

static bool
has_pid (const pid_t *pids, size_t n, long pid)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* The index of the whitespace-separated column named PID, or -1. */
static int
pid_column (const char *header)
{
  cleanup_free char *copy = xstrdup (header);
  char *save = NULL;
  int i = 0;

  for (char *t = strtok_r (copy, " \t", &save); t; t = strtok_r (NULL, " \t", &save), i++)
    if (strcmp (t, "PID") == 0)
      return i;
  return -1;
}

static long
field_at (const char *line, int index)
{
  cleanup_free char *copy = xstrdup (line);
  char *save = NULL, *end;
  int i = 0;

  for (char *t = strtok_r (copy, " \t", &save); t; t = strtok_r (NULL, " \t", &save), i++)
    if (i == index)
      {
        long v = strtol (t, &end, 10);
        return *end == '\0' ? v : -1;
      }
  return -1;
}

/* docker's way: ps with the user's options, rows kept by their PID. */
static int
run_ps_options (char *const *options, const pid_t *pids, size_t n, struct error **err)
{
  cleanup_strv char **argv = strv_append (NULL, "ps");
  cleanup_buf struct buf out = BUF_INIT;
  cleanup_strv char **lines = NULL;
  struct spawn_opts so = { .out = &out };
  int col;

  for (char *const *o = options; *o; o++)
    argv = strv_append (argv, *o);
  if (spawn_check (argv, &so, err) < 0)
    return err_wrap (err, "ps");
  lines = str_split (out.data ? out.data : "", '\n');
  if (lines[0] == NULL || (col = pid_column (lines[0])) < 0)
    return err_make (err, 0, "couldn't find PID field in ps output");
  printf ("%s\n", lines[0]);
  for (char **l = lines + 1; *l; l++)
    if (**l && has_pid (pids, n, field_at (*l, col)))
      printf ("%s\n", *l);
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_container struct container *c = NULL;
  cleanup_free pid_t *pids = NULL;
  cleanup_strv char **names = NULL;
  size_t n = 0;
  int o;

  cli_getopt_reset ();
  while ((o = cli_getopt (argc, argv, "+h", opts, &cmd_top_command, err)) != -1)
    return o == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_top_command, argc - optind, 1, -1, err) < 0)
    return -1;
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  if (!container_is_running (c))
    return err_make (err, 0, "top can only be used on running containers");
  if (container_procs_list (c, &pids, &n, err) < 0)
    return -1;
  names = optind + 1 < argc ? as_descriptors (argv + optind + 1) : NULL;
  if (optind + 1 == argc)
    return run_descriptors ((char *const *) default_descriptors, pids, n, err);
  if (names)
    return run_descriptors (names, pids, n, err);
  return run_ps_options (argv + optind + 1, pids, n, err);
}

const struct command cmd_top_command = {
  .name = "top",
  .summary = "Display the running processes of a container",
  .usage = "top CONTAINER [FORMAT-DESCRIPTORS|ARGS...]",
  .run = run,
};
